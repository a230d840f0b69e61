// Command sitevpn renders and applies redundant route-based WireGuard
// site-to-site VPNs from one fleet-wide HCL definition.
package main

func main() {}
