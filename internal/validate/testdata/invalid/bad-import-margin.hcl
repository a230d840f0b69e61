fleet {
  port_base = 5800
  transit6  = "2001:db8:ff::/64"
  transit4  = "169.254.0.0/16"

  bgp {
    import_margin = -1
  }
}

site "paris" {
  asn      = 65001
  prefixes = ["2001:db8:a1::/64", "10.0.1.0/24"]

  gateway "v1-1" {
    id         = 1
    endpoint   = "2001:db8:1::1"
    public_key = "ll5iJo0Skv/z4AhZUn7jc1QYcsw0Co8CP//gAIgPsDM="

    lan "eth1" {
      addresses = ["192.168.10.11/24"]
      ospf      = true
    }
  }
}

site "berlin" {
  asn      = 65002
  prefixes = ["2001:db8:a2::/64", "10.0.2.0/24"]

  gateway "v2-1" {
    id         = 3
    endpoint   = "2001:db8:2::1"
    public_key = "tu332Zy9c8g6n9PG6OLBkatkvL9zPDR5K5paj0Gi/GQ="
  }
}
