# TestLabHubSpoke's fleet (hubspoke_test.go): the article's three sites as
# hub-and-spoke, paris the hub with its two gateways, berlin and tokyo one
# spoke gateway each. Keys and ids are the article's (lab-keys), the outer
# transport is IPv4 on the lab's "internet" (192.0.2.0/24):
#
#   - berlin's v2-1 is found by DNS: the lab's resolver (dnsmasq on the
#     "nat" VM, 2001:db8::53) answers v2-1.vpn.lab.example, looked up
#     again every endpoint_refresh (10 s, the least allowed);
#   - tokyo's v3-1 has no endpoint: it sits behind the "nat" VM's
#     masquerade and connects out (keepalive 25), the hubs learn its
#     address from its packets.
#
# Each gateway's lan holds an address of its site's prefixes (no site
# router): BIRD's direct protocol announces the prefix, and the pings of
# the test run between those addresses.

fleet {
  topology         = "hub-and-spoke"
  isolation        = "netns"
  namespace        = "private"
  port_base        = 5800
  transit6         = "2001:db8:ff::/64"
  transit4         = "169.254.0.0/16"
  mtu              = 1420
  keepalive        = 0
  endpoint_refresh = 10

  bgp {
    hold_time       = 6
    bfd             = true
    bfd_interval_ms = 300
    bfd_multiplier  = 8
  }
}

site "paris" {
  hub      = true
  asn      = 65001
  prefixes = ["2001:db8:a1::/64", "10.0.1.0/24"]

  gateway "v1-1" {
    id         = 1
    endpoint   = "192.0.2.11"
    public_key = "ll5iJo0Skv/z4AhZUn7jc1QYcsw0Co8CP//gAIgPsDM="

    lan "eth1" {
      addresses = ["10.0.1.11/24", "2001:db8:a1::11/64"]
    }
  }

  gateway "v1-2" {
    id         = 2
    endpoint   = "192.0.2.12"
    public_key = "iug+X1iY50xoS4nlUoliLVVh8313ARUc4pqGV+YvCBM="

    lan "eth1" {
      addresses = ["10.0.1.12/24", "2001:db8:a1::12/64"]
    }
  }
}

site "berlin" {
  asn      = 65002
  prefixes = ["2001:db8:a2::/64", "10.0.2.0/24"]

  gateway "v2-1" {
    id         = 3
    endpoint   = "v2-1.vpn.lab.example"
    public_key = "tu332Zy9c8g6n9PG6OLBkatkvL9zPDR5K5paj0Gi/GQ="

    lan "eth1" {
      addresses = ["10.0.2.1/24", "2001:db8:a2::1/64"]
    }
  }
}

site "tokyo" {
  asn      = 65003
  prefixes = ["2001:db8:a3::/64", "10.0.3.0/24"]

  gateway "v3-1" {
    id         = 5
    public_key = "7J8NG5Jm6mLNJQNxJLMHBYjCLaT7+EDgSv+fSe19iCs="

    lan "eth1" {
      addresses = ["10.0.3.1/24", "2001:db8:a3::1/64"]
    }
  }
}
