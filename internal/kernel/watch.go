package kernel

// Changes receives what a kernel watch (package link's Kernel.Watch)
// sees. Touched gets the names of links that were created, deleted or
// changed (state, MTU, namespace) or had an address added or removed; All
// says changes may have been missed (the watch began anew on another
// namespace, or the kernel dropped events), so everything must be read
// again. Both are called from the watch's goroutine and must not block.
type Changes struct {
	Touched func(names []string)
	All     func()
	// Failed, if set, hears why a subscription could not be made or
	// ended (the watch tries again, then says All).
	Failed func(error)
}
