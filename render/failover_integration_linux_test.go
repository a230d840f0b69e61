//go:build linux

package render_test

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitevpn/sitevpn/internal/testnetns"
)

// TestIntegrationFailover measures, natively, what the emulated VM lab
// cannot: how long traffic stops when a remote gateway dies silently (its
// packets dropped both ways by the blackhole qdisc, the link staying up,
// as with a dead WireGuard peer), with BFD at its default timers (100 ms
// x 5) and without (BGP's hold time, 6 s). The rendered configurations of
// paris's v1-1 and of both berlin gateways run in namespaces over veth
// pairs named like the tunnels; both berlin gateways hold an anycast
// address; v2-2 is drained, so v1-1's 10 ms pings to it cross v2-1, and
// when v2-1 dies they must come back through v2-2 (a drained gateway
// stays a backup). The longest gap of each run is printed; with BFD it
// must stay under 1 s.
func TestIntegrationFailover(t *testing.T) {
	birdBin := testnetns.RequireBIRD(t)
	if _, err := exec.LookPath("tc"); err != nil {
		t.Skip("tc (iproute2) is not installed")
	}
	for _, bfd := range []bool{false, true} {
		name := "without BFD"
		if bfd {
			name = "with BFD"
		}
		t.Run(name, func(t *testing.T) {
			gap := failoverGap(t, birdBin, bfd)
			t.Logf("FIGURE failover %s: longest gap %s", name, gap.Round(time.Millisecond))
			if bfd && gap >= time.Second {
				t.Errorf("with BFD the longest gap is %s, want under 1 s", gap.Round(time.Millisecond))
			}
			if gap < 100*time.Millisecond {
				t.Errorf("a gap of %s: the pings did not cross the gateway that died", gap)
			}
		})
	}
}

func failoverGap(t *testing.T, birdBin string, bfd bool) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	f := exampleFleetNetNS(t)
	paris := newNSGateway(t, f, "v1-1", "v2-1")
	paris2 := newNSGateway(t, f, "v1-1", "v2-2")
	b1 := newNSGateway(t, f, "v2-1", "v1-1")
	b2 := newNSGateway(t, f, "v2-2", "v1-1")
	const anycast = "10.0.2.100"
	paris.lan = []string{"10.0.1.1/24", "2001:db8:a1::1/64"}
	b1.lan = []string{"10.0.2.1/24", anycast + "/32"}
	b2.lan = []string{"10.0.2.2/24", anycast + "/32"}
	b2.plan.Drained = true
	for _, g := range []*nsGateway{paris, b1, b2} {
		g.plan.BGP.BFD = bfd
		g.conf = renderBIRDConf(t, g.plan)
	}
	paris2.shares = paris
	startGateways(ctx, t, birdBin, []*nsGateway{paris, paris2, b1, b2}, [][2]*nsGateway{{paris, b1}, {paris2, b2}})
	pollUntil(ctx, t, "v1-1 routing the anycast address over v2-1 alone", func() error {
		return nextHops(paris, anycast, paris.tunnel.Interface)
	})
	if bfd {
		pollUntil(ctx, t, "BFD up on v1-1's tunnel to v2-1", func() error { return bfdUp(ctx, paris) })
	}

	p := startPingStream(t, paris.ns, "10.0.1.1", anycast)
	if err := p.waitReplies(ctx, 100); err != nil {
		t.Fatal(err)
	}
	// v2-1 dies silently: every packet on the tunnel dropped both ways
	// (the blackhole qdisc, built into every kernel, drops all it is
	// given), the link staying up.
	for _, g := range []*nsGateway{paris, b1} {
		nsRun(t, "ip", "netns", "exec", g.ns, "tc", "qdisc", "replace", "dev", g.tunnel.Interface, "root", "blackhole")
	}
	died := p.replies()
	// 200 replies (2 s) after the death: the stream came back over v2-2.
	if err := p.waitReplies(ctx, died+200); err != nil {
		t.Fatalf("the pings never came back over v2-2: %v\n%s", err, p.tail())
	}
	return p.stop()
}

// pingStream is a 10 ms ping inside a namespace, its replies' times read
// as they come.
type pingStream struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	times []time.Time // of each reply
	lines []string
	done  chan struct{}
	once  sync.Once
	gap   time.Duration
}

func startPingStream(t *testing.T, ns, src, dst string) *pingStream {
	t.Helper()
	p := &pingStream{done: make(chan struct{})}
	p.cmd = exec.Command("ip", "netns", "exec", ns, "ping", "-D", "-n", "-i", "0.01", "-I", src, dst)
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = p.cmd.Stdout // ping's complaints in the same lines
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.stop() })
	go func() {
		defer close(p.done)
		s := bufio.NewScanner(out)
		for s.Scan() {
			line := s.Text()
			p.mu.Lock()
			p.lines = append(p.lines, line)
			// "[1796098786.960123] 64 bytes from 10.0.2.100: icmp_seq=7 ..."
			if ts, rest, ok := strings.Cut(strings.TrimPrefix(line, "["), "]"); ok && strings.Contains(rest, "bytes from") {
				if f, err := strconv.ParseFloat(ts, 64); err == nil {
					p.times = append(p.times, time.Unix(0, int64(f*1e9)))
				}
			}
			p.mu.Unlock()
		}
	}()
	return p
}

func (p *pingStream) replies() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.times)
}

func (p *pingStream) waitReplies(ctx context.Context, n int) error {
	for p.replies() < n {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d replies, want %d: %w", p.replies(), n, ctx.Err())
		case <-p.done:
			return fmt.Errorf("ping ended after %d replies:\n%s", p.replies(), p.tail())
		case <-time.After(10 * time.Millisecond): // polling the reader, not a wait for time to pass
		}
	}
	return nil
}

// stop ends the ping (once) and returns the longest time between two
// replies.
func (p *pingStream) stop() time.Duration {
	p.once.Do(func() {
		p.cmd.Process.Kill()
		<-p.done
		p.cmd.Wait()
		p.mu.Lock()
		defer p.mu.Unlock()
		for i := 1; i < len(p.times); i++ {
			p.gap = max(p.gap, p.times[i].Sub(p.times[i-1]))
		}
	})
	return p.gap
}

func (p *pingStream) tail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines[max(0, len(p.lines)-10):], "\n")
}
