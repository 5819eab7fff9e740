package web

import (
	"net/url"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy/policy"
)

// StoreOptions completes the store's options with what only the assembled
// server knows: the console's host, which no route may take, and the
// policy language, which the store may not import but must check with.
func StoreOptions(cfg Config, opts models.Options) models.Options {
	if u, err := url.Parse(cfg.Server.ConsoleURL); err == nil {
		opts.ReservedHosts = append(opts.ReservedHosts, u.Host)
	}
	opts.ValidatePolicy = ValidatePolicy
	return opts
}

// ValidatePolicy compiles a policy's source; its error is policy.Errors,
// every problem with its line and column.
func ValidatePolicy(name string, source []byte) error {
	_, err := policy.Parse(name, source)
	return err
}
