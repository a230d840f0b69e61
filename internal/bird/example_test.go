package bird_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/sitevpn/sitevpn/internal/bird"
)

// Reconfiguring BIRD after writing a new configuration over the file it was
// started with, and reading the state of each tunnel's session.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	c, err := bird.Dial(ctx, "/run/sitevpn/bird-private.ctl")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	const conf = "/etc/bird/sitevpn-private.conf"
	if err := c.ConfigureCheck(ctx, conf); err != nil {
		var ce *bird.ConfigError
		if errors.As(err, &ce) {
			log.Fatalf("rendered an invalid BIRD config at %s:%d: %s", ce.File, ce.Line, ce.Message)
		}
		log.Fatal(err)
	}
	res, err := c.Configure(ctx, conf)
	if err != nil {
		log.Fatal(err)
	}
	if res != bird.Reconfigured {
		// A session had to restart; BIRD finishes on its own.
		if err := c.WaitReconfigured(ctx); err != nil {
			log.Fatal(err)
		}
	}

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
