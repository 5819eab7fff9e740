package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/drawbridge/drawbridge/models"
)

// Reload measurement bounds.
const (
	reloadTimeout    = 5 * time.Second        // a change not obeyed by then fails the run
	reloadProbeEvery = 500 * time.Microsecond // between probes while waiting
)

// prober calls echo through one gateway and reports whether the policy
// let it through (see newProber).
type prober func(context.Context) (bool, error)

// measureReloads changes the policy n times through store, alternately
// denying echo and allowing it again, and returns for each change the time
// from its commit to the first probe that saw it obeyed. Before each change
// it waits a random part of jitter, so that changes land at every phase of
// the engine's poll rather than just after one.
func measureReloads(ctx context.Context, store *models.Store, policyID uint, probe prober, n int, jitter time.Duration) ([]time.Duration, error) {
	lat, err := measureReloadsAcross(ctx, store, policyID, []prober{probe}, n, jitter)
	if err != nil {
		return nil, err
	}
	return lat[0], nil
}

// measureReloadsAcross is measureReloads for several gateways sharing one
// database, replicas, each probed on its own: for each probe, the time
// from each commit to the first answer of that gateway that obeyed it.
func measureReloadsAcross(ctx context.Context, store *models.Store, policyID uint, probes []prober, n int, jitter time.Duration) ([][]time.Duration, error) {
	p, err := store.GetPolicy(ctx, policyID)
	if err != nil {
		return nil, err
	}
	for i, probe := range probes {
		if allowed, err := probe(ctx); err != nil || !allowed {
			return nil, fmt.Errorf("reload: echo must be allowed before the first change (gateway %d: allowed %v, %v)", i+1, allowed, err)
		}
	}
	out := make([][]time.Duration, len(probes))
	for i := range n {
		if jitter > 0 {
			select {
			case <-time.After(rand.N(jitter)):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		deny := i%2 == 0
		p.Source = benchPolicy(deny)
		if err := store.UpdatePolicy(ctx, p); err != nil {
			return nil, err
		}
		committed := time.Now()
		errs := make([]error, len(probes))
		var wg sync.WaitGroup
		for g, probe := range probes {
			wg.Go(func() {
				var lat time.Duration
				lat, errs[g] = awaitObeyed(ctx, probe, deny, committed)
				if errs[g] == nil {
					out[g] = append(out[g], lat)
				} else {
					errs[g] = fmt.Errorf("reload: gateway %d, change %d: %w", g+1, i+1, errs[g])
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// awaitObeyed probes until the gateway denies echo (deny) or allows it
// again, and returns how long after committed it first did.
func awaitObeyed(ctx context.Context, probe prober, deny bool, committed time.Time) (time.Duration, error) {
	for {
		allowed, err := probe(ctx)
		if err != nil {
			return 0, err
		}
		if allowed != deny {
			return time.Since(committed), nil
		}
		if time.Since(committed) > reloadTimeout {
			return 0, fmt.Errorf("not obeyed after %s", reloadTimeout)
		}
		time.Sleep(reloadProbeEvery)
	}
}
