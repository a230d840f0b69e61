// Package link is the Linux implementation of apply.Kernel: links,
// addresses and namespaces over netlink (vishvananda/netlink, one handle
// per namespace), WireGuard devices and peers over wgctrl.
//
// Two modes, chosen at New:
//
//   - netns: sitevpn owns the tunnel links. Each one is created in the main
//     namespace, so that its UDP socket stays there for good, configured
//     there, and only then moved into the private namespace, where it gets
//     its transit addresses and is set up. Every later change (MTU,
//     addresses, WireGuard settings) is made inside the private namespace.
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
