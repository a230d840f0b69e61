package apply

import "github.com/sitevpn/sitevpn/internal/kernel"

// Kind is what an action does.
type Kind string

// The file and service actions.
const (
	WriteFile      Kind = "write"
	RemoveFile     Kind = "remove"
	StopUnit       Kind = "stop-unit"
	DaemonReload   Kind = "daemon-reload"
	StartUnit      Kind = "start-unit"
	RestartUnit    Kind = "restart-unit"
	ReloadNetworkd Kind = "reload-networkd"
	ConfigureBird  Kind = "configure-bird"
)

// The link actions: each carries its kernel.Change.
const (
	DeleteTunnel    = Kind(kernel.DeleteTunnel)
	CreateTunnel    = Kind(kernel.CreateTunnel)
	ConfigureDevice = Kind(kernel.ConfigureDevice)
	RemovePeer      = Kind(kernel.RemovePeer)
	SetPeer         = Kind(kernel.SetPeer)
	SetMTU          = Kind(kernel.SetMTU)
	DelAddress      = Kind(kernel.DelAddress)
	AddAddress      = Kind(kernel.AddAddress)
	MoveLAN         = Kind(kernel.MoveLAN)
	SetUp           = Kind(kernel.SetUp)
	// MissingLAN is no action but a finding: a lan interface that does not
	// exist. Apply reports it and goes on with the rest.
	MissingLAN Kind = "missing-lan"
	// UnsafeLAN is a refusal: a lan interface that holds the gateway's
	// default route or endpoint, which moving into the private namespace
	// would cut off. Apply fails on it, before it moves anything.
	UnsafeLAN Kind = "unsafe-lan"
)

// Action is one step of an apply.
type Action struct {
	Kind   Kind   `json:"kind"`
	Target string `json:"target"`
	// Arg is for people (plan, logs): a link action's port, peer key or
	// address. Nothing parses it; the typed Change is what is performed.
	Arg string `json:"arg,omitempty"`
	Why string `json:"why,omitempty"`
	// Change is what a link action asks of the kernel.
	Change *kernel.Change `json:"-"`
}

func (a Action) String() string {
	s := string(a.Kind) + " " + a.Target
	if a.Arg != "" {
		s += " " + a.Arg
	}
	return s
}

// linkAction is the action that performs c.
func linkAction(c kernel.Change, why string) Action {
	return Action{Kind: Kind(c.Op), Target: c.Link, Arg: c.Detail(), Why: why, Change: &c}
}
