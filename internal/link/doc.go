// Package link is the Linux implementation of apply's Kernel: links,
// addresses and namespaces over netlink (vishvananda/netlink, one handle
// per namespace), WireGuard devices and peers over wgctrl (one client per
// namespace); both kept from call to call (handles_linux.go).
//
// Two modes, chosen at New:
//
//   - netns: sitevpn owns the tunnel links. Each one is asked for from the
//     main namespace and made directly in the private one (IFLA_NET_NS_FD):
//     WireGuard binds its UDP socket in the namespace the request came
//     from, so the socket stays in main for good while the link never
//     appears there. It is configured, gets its transit addresses and is
//     set up inside the private namespace, as is every later change (MTU,
//     addresses, WireGuard settings).
//   - vrf: networkd creates the devices from .netdev files; everything is in
//     the main namespace and only ConfigureDevice, SetPeer, RemovePeer and
//     Observe are meant to be used.
//
// WireGuard peers are always changed in place (never ReplacePeers), so a
// change to one peer or one tunnel leaves every other session alone.
//
// Errors are *Error values ("link: <op> <iface>: ..."); none of them, and
// nothing this package prints, ever contains the private key.
package link
