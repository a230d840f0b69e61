package verify

// outage is one failure as route propagation sees it: a site that is
// gone, or two sites whose every tunnel is down (-1: none).
type outage struct {
	dead int
	a, b int
}

var intact = outage{-1, -1, -1}

func (o outage) severs(x, y int) bool { return x == o.a && y == o.b || x == o.b && y == o.a }

// reach is, for one class, the site each site learned its route from (the
// origin itself for the origin), or -1 where it has none: BGP's best
// paths, shortest first, as one breadth-first pass finds them.
type reach []int32

// maxWork bounds the steps of one verification: past it, the fleet is
// reported as not fully checked rather than checked for minutes.
const maxWork = 200_000_000

func (m *model) exhausted() bool { return m.work > maxWork }

// propagate follows a class's routes from its site through the policy,
// into r when it has room (the failures' passes reuse one).
func (m *model) propagate(c *class, o outage, r reach) reach {
	if len(r) != len(m.sites) {
		r = make(reach, len(m.sites))
	}
	for i := range r {
		r[i] = -1
	}
	origin := c.site
	if o.dead == origin.idx || len(c.origins) == 0 {
		return r
	}
	r[origin.idx] = int32(origin.idx)
	queue := append(m.queue[:0], origin.idx)
	defer func() { m.queue = queue }()
	for next := 0; next < len(queue) && !m.exhausted(); next++ {
		x := queue[next]
		if x != origin.idx && !m.carries[x] {
			continue // it keeps what it learns
		}
		sx := m.sites[x].f
		for y, sy := range m.sites {
			m.work++
			if r[y] >= 0 || y == o.dead || o.severs(x, y) || !m.f.Tunneled(sx, sy.f) || !m.policy.passes(sx, sy.f, origin.f) {
				continue
			}
			r[y] = int32(x)
			queue = append(queue, y)
		}
	}
	return r
}

// through reports whether site s is on the path r gives site from.
func (r reach) through(from, s int) bool {
	for x := from; ; x = int(r[x]) {
		if x == s {
			return true
		}
		if int(r[x]) == x || r[x] < 0 {
			return false
		}
	}
}

// detour reports whether recv, having lost its route to c from skip,
// still learns one from another site in transit (BGP's next best path).
func (m *model) detour(c *class, r reach, recv, skip int) bool {
	for _, z := range m.transit {
		m.work++
		if z == recv || z == skip || r[z] < 0 || r.through(z, recv) {
			continue
		}
		if m.f.Tunneled(m.sites[z].f, m.sites[recv].f) && m.policy.passes(m.sites[z].f, m.sites[recv].f, c.site.f) {
			return true
		}
	}
	return false
}
