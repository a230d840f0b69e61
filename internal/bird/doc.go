// Package bird is a client for the control socket of BIRD 2 (the socket
// birdc talks to), so sitevpn can check a configuration, reconfigure BIRD and
// read its BGP sessions without running birdc and scraping its output.
//
// The protocol is BIRD's own (nest/cli.c): the client sends one command per
// line; BIRD answers with lines that start with a four-digit code followed by
// '-' when more lines follow or ' ' on the last one. A line that starts with
// a single space continues the previous code. Codes 0xxx report success, 1xxx
// and 2xxx carry table rows and headings, 8xxx are run-time errors and 9xxx
// parse errors (doc/reply_codes). Lines starting with '+' are spontaneous
// printouts (log echo) that belong to no reply.
//
// A Client owns one connection and serializes calls on it, because BIRD
// answers commands strictly in order and a reply carries nothing that would
// tie it to its command. Every call takes a context whose deadline bounds the
// whole exchange.
package bird
