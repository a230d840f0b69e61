package verify

// pairs is a set of unordered pairs of sites, counted, with the first few
// kept in the order found.
type pairs struct {
	sites int
	bits  []uint64
	n     int
	first [][2]int
}

func newPairs(sites int) *pairs {
	return &pairs{sites: sites, bits: make([]uint64, (sites*sites+63)/64)}
}

func (p *pairs) reset() {
	if p.n > 0 {
		clear(p.bits)
	}
	p.n, p.first = 0, p.first[:0]
}

func (p *pairs) add(a, b int) {
	if a > b {
		a, b = b, a
	}
	i := a*p.sites + b
	if p.bits[i/64]&(1<<(i%64)) != 0 {
		return
	}
	p.bits[i/64] |= 1 << (i % 64)
	p.n++
	if len(p.first) < maxPairs {
		p.first = append(p.first, [2]int{a, b})
	}
}
