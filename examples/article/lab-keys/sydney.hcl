# A fourth site, added by the lab's scenario 1 (copy as sydney.hcl).

site "sydney" {
  asn      = 65004
  prefixes = ["2001:db8:a4::/64", "10.0.4.0/24"]

  gateway "v4-1" {
    id         = 7
    endpoint   = "2001:db8:4::1"
    public_key = "FTRYCE32F4OElLcWqvuypqpr9olBHSVQrtpTp60a3UA="

    lan "eth1" { # link to the sibling gateway
      addresses = ["192.168.40.11/24"]
      ospf      = true
    }
    lan "eth2" { # link to the site router
      addresses = ["192.168.41.11/24"]
      ospf      = true
    }
  }

  gateway "v4-2" {
    id         = 8
    endpoint   = "2001:db8:4::2"
    public_key = "Cf7EuGWwxiRrNr7KZ4A7lOEKz8YSDKQbGvfjYeg/BkI="

    lan "eth1" { # link to the sibling gateway
      addresses = ["192.168.40.12/24"]
      ospf      = true
    }
    lan "eth2" { # link to the site router
      addresses = ["192.168.42.12/24"]
      ospf      = true
    }
  }
}
