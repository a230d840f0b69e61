// Package layering holds no code: its test keeps the house in the order
// of the pipeline (load -> validate -> plan -> render -> apply -> check),
// so that no package imports one above it, and keeps cmd/sitevpn thin.
package layering
