# A hub-and-spoke fleet: two data centres (hubs) with two gateways each,
# and four branches (spokes) with one gateway each. Spokes have tunnels to
# every hub gateway only; the hubs carry the traffic between branches, each
# spoke reaching another over all four hub gateways at once (ECMP).
#
# Branches as they come: nantes sits behind NAT with no fixed address (no
# endpoint: it connects out, keepalive 25 s), lille has a dynamic address
# published in DNS (resolved when applied, then every endpoint_refresh
# seconds; never by validate or render).

fleet {
  topology         = "hub-and-spoke"
  isolation        = "netns"
  namespace        = "private"
  port_base        = 5800
  transit6         = "2001:db8:ff::/64"
  transit4         = "169.254.0.0/16"
  mtu              = 1420
  keepalive        = 0
  endpoint_refresh = 60

  bgp {
    hold_time = 6
    bfd       = false
  }
}

site "dc-paris" {
  hub      = true
  asn      = 65001
  prefixes = ["2001:db8:a1::/64", "10.0.1.0/24"]

  gateway "h1-1" {
    id         = 1
    endpoint   = "2001:db8:1::1"
    public_key = "RQI0nVIFhamvEDnAZoKcVowkvIust18f69H4fBe8sjo="

    lan "eth2" { # link to the site router
      addresses = ["192.168.11.11/24"]
      ospf      = true
    }
  }

  gateway "h1-2" {
    id         = 2
    endpoint   = "2001:db8:1::2"
    public_key = "OSOwoxUPn1HF23cH40qj+v7QR7GOmyrdEuyJA4WCmDs="

    lan "eth2" {
      addresses = ["192.168.12.12/24"]
      ospf      = true
    }
  }
}

site "dc-frankfurt" {
  hub      = true
  asn      = 65002
  prefixes = ["2001:db8:a2::/64", "10.0.2.0/24"]

  gateway "h2-1" {
    id         = 3
    endpoint   = "2001:db8:2::1"
    public_key = "YnpHTJ2yNvIMPl6M9oIRf5Ze2MRTHY/q6GztrhdQ0EE="

    lan "eth2" {
      addresses = ["192.168.21.21/24"]
      ospf      = true
    }
  }

  gateway "h2-2" {
    id         = 4
    endpoint   = "2001:db8:2::2"
    public_key = "UU3FZQ9SuOrhCv8HBgRuLVtFJOJmIYj6I5q5Q3SYZhk="

    lan "eth2" {
      addresses = ["192.168.22.22/24"]
      ospf      = true
    }
  }
}

site "shop-lyon" {
  asn      = 65101
  prefixes = ["2001:db8:b1::/64", "10.1.1.0/24"]

  gateway "s1-1" {
    id         = 5
    endpoint   = "192.0.2.15"
    public_key = "o2HTEQW8XiCj1D25UDpwWHKuLSFb120vhiD3EhCNgT8="

    lan "eth2" {
      addresses = ["10.1.1.1/24", "2001:db8:b1::1/64"]
    }
  }
}

site "shop-nantes" {
  asn      = 65102
  prefixes = ["2001:db8:b2::/64", "10.1.2.0/24"]

  # Behind NAT, no fixed address: no endpoint.
  gateway "s2-1" {
    id         = 6
    public_key = "OvaXDMyVUXuvRRY3wrutxfEjZj3vWDffL295RKLZg0s="

    lan "eth2" {
      addresses = ["10.1.2.1/24", "2001:db8:b2::1/64"]
    }
  }
}

site "shop-lille" {
  asn      = 65103
  prefixes = ["2001:db8:b3::/64", "10.1.3.0/24"]

  # A dynamic address in DNS; its router forwards ports 7001-7004 (7000 +
  # each hub gateway's id) to it.
  gateway "s3-1" {
    id         = 7
    endpoint   = "vpn.lille.example.net:7000"
    public_key = "FLTCdbZdG8RoSDxmlOomSMw+ZZzk8HbVGqUHUq+dAXA="

    lan "eth2" {
      addresses = ["10.1.3.1/24", "2001:db8:b3::1/64"]
    }
  }
}

site "shop-nice" {
  asn      = 65104
  prefixes = ["2001:db8:b4::/64", "10.1.4.0/24"]

  gateway "s4-1" {
    id         = 8
    endpoint   = "2001:db8:14::1"
    public_key = "/RRI2YhVPsagNPTt6RGMnuv5VOU6eCKo6V25L41TsBM="

    lan "eth2" {
      addresses = ["10.1.4.1/24", "2001:db8:b4::1/64"]
    }
  }
}
