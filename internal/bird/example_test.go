package bird_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/sitevpn/sitevpn/internal/bird"
)

// Checking and loading a new configuration written over the file BIRD was
// started with, as apply does, then reading each tunnel's session, as the
// health check does.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	const sock, conf = "/run/sitevpn-bird-private/bird.ctl", "/etc/bird/sitevpn-private.conf"
	var ctl bird.Control
	if err := ctl.Check(ctx, sock, conf); err != nil {
		var ce *bird.ConfigError
		if errors.As(err, &ce) {
			log.Fatalf("rendered an invalid BIRD config at %s:%d: %s", ce.File, ce.Line, ce.Message)
		}
		log.Fatal(err)
	}
	// Returns once BIRD has finished, sessions it had to restart included.
	if err := ctl.Configure(ctx, sock, conf); err != nil {
		log.Fatal(err)
	}

	c, err := bird.Dial(ctx, sock)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ps, err := c.ProtocolDetails(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range ps {
		if p.BGP == nil {
			continue
		}
		r := p.Routes()
		fmt.Printf("%s %s since %s, %d routes in, %d out %s\n",
			p.Name, p.BGP.State, p.Since.Format(time.DateTime), r.Imported, r.Exported, p.BGP.LastError)
	}
}
