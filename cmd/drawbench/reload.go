package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/drawbridge/drawbridge/models"
)

// Reload measurement bounds.
const (
	reloadTimeout    = 5 * time.Second        // a change not obeyed by then fails the run
	reloadProbeEvery = 500 * time.Microsecond // between probes while waiting
)

// measureReloads changes the policy n times through store, alternately
// denying echo and allowing it again, and returns for each change the time
// from its commit to the first probe that saw it obeyed. Before each change
// it waits a random part of jitter, so that changes land at every phase of
// the engine's poll rather than just after one.
func measureReloads(ctx context.Context, store *models.Store, policyID uint, probe func(context.Context) (bool, error), n int, jitter time.Duration) ([]time.Duration, error) {
	p, err := store.GetPolicy(ctx, policyID)
	if err != nil {
		return nil, err
	}
	if allowed, err := probe(ctx); err != nil || !allowed {
		return nil, fmt.Errorf("reload: echo must be allowed before the first change (allowed %v, %v)", allowed, err)
	}
	out := make([]time.Duration, 0, n)
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
		for {
			allowed, err := probe(ctx)
			if err != nil {
				return nil, err
			}
			if allowed != deny {
				out = append(out, time.Since(committed))
				break
			}
			if time.Since(committed) > reloadTimeout {
				return nil, fmt.Errorf("reload: change %d was not obeyed after %s", i+1, reloadTimeout)
			}
			time.Sleep(reloadProbeEvery)
		}
	}
	return out, nil
}
