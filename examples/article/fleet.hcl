# The three-site topology of Vincent Bernat's "Route-based VPN on Linux with
# WireGuard": two gateways per site, a full mesh of tunnels between sites,
# IPv6 outer transport with IPv4 and IPv6 inside. Gateway ids follow the
# article's marks ((site-1)*2 + gateway), so interface names, ports and
# transit addresses match its lab.

fleet {
  isolation = "netns"
  namespace = "private"
  port_base = 5800
  transit6  = "2001:db8:ff::/64"
  transit4  = "169.254.0.0/16"
  mtu       = 1420
  keepalive = 0

  bgp {
    hold_time = 6
    bfd       = false
  }
}

site "paris" {
  asn      = 65001
  prefixes = ["2001:db8:a1::/64", "10.0.1.0/24"]

  gateway "v1-1" {
    id         = 1
    endpoint   = "2001:db8:1::1"
    public_key = "ll5iJo0Skv/z4AhZUn7jc1QYcsw0Co8CP//gAIgPsDM="

    lan "eth1" { # link to the sibling gateway
      addresses = ["192.168.10.11/24"]
      ospf      = true
    }
    lan "eth2" { # link to the site router
      addresses = ["192.168.11.11/24"]
      ospf      = true
    }
  }

  gateway "v1-2" {
    id         = 2
    endpoint   = "2001:db8:1::2"
    public_key = "iug+X1iY50xoS4nlUoliLVVh8313ARUc4pqGV+YvCBM="

    lan "eth1" { # link to the sibling gateway
      addresses = ["192.168.10.12/24"]
      ospf      = true
    }
    lan "eth2" { # link to the site router
      addresses = ["192.168.12.12/24"]
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

    lan "eth1" { # link to the sibling gateway
      addresses = ["192.168.20.11/24"]
      ospf      = true
    }
    lan "eth2" { # link to the site router
      addresses = ["192.168.21.11/24"]
      ospf      = true
    }
  }

  gateway "v2-2" {
    id         = 4
    endpoint   = "2001:db8:2::2"
    public_key = "4dyLFoKNcAOvz9iv0IsHJ5heQJEqdi3xzhO+CbMnDwk="

    lan "eth1" { # link to the sibling gateway
      addresses = ["192.168.20.12/24"]
      ospf      = true
    }
    lan "eth2" { # link to the site router
      addresses = ["192.168.22.12/24"]
      ospf      = true
    }
  }
}

site "tokyo" {
  asn      = 65003
  prefixes = ["2001:db8:a3::/64", "10.0.3.0/24"]

  gateway "v3-1" {
    id         = 5
    endpoint   = "2001:db8:3::1"
    public_key = "7J8NG5Jm6mLNJQNxJLMHBYjCLaT7+EDgSv+fSe19iCs="

    lan "eth1" { # link to the sibling gateway
      addresses = ["192.168.30.11/24"]
      ospf      = true
    }
    lan "eth2" { # link to the site router
      addresses = ["192.168.31.11/24"]
      ospf      = true
    }
  }

  gateway "v3-2" {
    id         = 6
    endpoint   = "2001:db8:3::2"
    public_key = "az/P3l8LJkI/Vn4SxkObtEzWGFtQRHUIy0qnbqCGc1c="

    lan "eth1" { # link to the sibling gateway
      addresses = ["192.168.30.12/24"]
      ospf      = true
    }
    lan "eth2" { # link to the site router
      addresses = ["192.168.32.12/24"]
      ospf      = true
    }
  }
}
