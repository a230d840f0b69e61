fleet {
  port_base = 5800
  transit6  = "2001:db8:ff::/64"
}

site "s1" {
  asn      = 65001
  prefixes = ["10.0.1.0/24"]

  gateway "g1" {
    id         = 1
    public_key = "ll5iJo0Skv/z4AhZUn7jc1QYcsw0Co8CP//gAIgPsDM="
  }
}

site "s2" {
  asn      = 65002
  prefixes = ["10.0.2.0/24"]

  gateway "g2" {
    id         = 2
    public_key = "iug+X1iY50xoS4nlUoliLVVh8313ARUc4pqGV+YvCBM="
  }
}

site "s3" {
  asn      = 65003
  prefixes = ["10.0.3.0/24"]

  gateway "g3" {
    id         = 3
    public_key = "tu332Zy9c8g6n9PG6OLBkatkvL9zPDR5K5paj0Gi/GQ="
  }
}

site "s4" {
  asn      = 65004
  prefixes = ["10.0.4.0/24"]

  gateway "g4" {
    id         = 4
    public_key = "4dyLFoKNcAOvz9iv0IsHJ5heQJEqdi3xzhO+CbMnDwk="
  }
}

site "s5" {
  asn      = 65005
  prefixes = ["10.0.5.0/24"]

  gateway "g5" {
    id         = 5
    public_key = "7J8NG5Jm6mLNJQNxJLMHBYjCLaT7+EDgSv+fSe19iCs="
  }
}

site "s6" {
  asn      = 65006
  prefixes = ["10.0.6.0/24"]

  gateway "g6" {
    id         = 6
    public_key = "az/P3l8LJkI/Vn4SxkObtEzWGFtQRHUIy0qnbqCGc1c="
  }
}

site "s7" {
  asn      = 65007
  prefixes = ["10.0.7.0/24"]

  gateway "g7" {
    id         = 7
    public_key = "FTRYCE32F4OElLcWqvuypqpr9olBHSVQrtpTp60a3UA="
  }
}

site "s8" {
  asn      = 65008
  prefixes = ["10.0.8.0/24"]

  gateway "g8" {
    id         = 8
    public_key = "Cf7EuGWwxiRrNr7KZ4A7lOEKz8YSDKQbGvfjYeg/BkI="
  }
}
