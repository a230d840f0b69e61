package load

import "github.com/hashicorp/hcl/v2"

// The schema of every block. hcl's Content reports unknown and missing
// attributes and blocks with their position, and suggests close names.
var (
	rootSchema = &hcl.BodySchema{
		Blocks: []hcl.BlockHeaderSchema{
			{Type: "fleet"},
			{Type: "site", LabelNames: []string{"name"}},
		},
	}
	fleetSchema = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{
			{Name: "isolation"},
			{Name: "namespace"},
			{Name: "port_base"},
			{Name: "transit6", Required: true},
			{Name: "transit4"},
			{Name: "mtu"},
			{Name: "keepalive"},
			{Name: "vrf_table"},
			{Name: "metrics_listen"},
			{Name: "confirm_window"},
			{Name: "topology"},
			{Name: "endpoint_refresh"},
		},
		Blocks: []hcl.BlockHeaderSchema{{Type: "bgp"}},
	}
	bgpSchema = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{
			{Name: "hold_time"},
			{Name: "bfd"},
			{Name: "bfd_interval_ms"},
			{Name: "bfd_multiplier"},
			{Name: "import_limit"},
			{Name: "import_margin"},
		},
	}
	siteSchema = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{
			{Name: "asn", Required: true},
			{Name: "prefixes", Required: true},
			{Name: "hub"},
		},
		Blocks: []hcl.BlockHeaderSchema{{Type: "gateway", LabelNames: []string{"name"}}},
	}
	gatewaySchema = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{
			{Name: "id", Required: true},
			{Name: "endpoint"}, // none: the gateway connects out (behind NAT)
			{Name: "public_key", Required: true},
			{Name: "router_id"},
		},
		Blocks: []hcl.BlockHeaderSchema{{Type: "lan", LabelNames: []string{"interface"}}},
	}
	lanSchema = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{
			{Name: "addresses"},
			{Name: "ospf"},
		},
	}
)
