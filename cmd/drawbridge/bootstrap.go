package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/drawbridge/drawbridge/models"
)

// envAdminPassword sets the first admin's password instead of a generated one.
const envAdminPassword = "DRAWBRIDGE_ADMIN_PASSWORD"

type firstAdmin struct {
	email     string
	password  string
	generated bool
}

// bootstrapAdmin creates the first administrator when the database has no
// users at all, and returns nil when there already are some.
func bootstrapAdmin(ctx context.Context, b *backend, env environment) (*firstAdmin, error) {
	counts, err := b.store.CountUsers(ctx)
	if err != nil {
		return nil, err
	}
	if counts.Total > 0 {
		return nil, nil
	}
	a := &firstAdmin{email: b.cfg.FirstAdminEmail(), password: env.get(envAdminPassword)}
	if a.password == "" {
		a.password, a.generated = rand.Text(), true
	} else if err := models.ValidatePassword(a.password); err != nil {
		return nil, fmt.Errorf("%s: %w", envAdminPassword, err)
	}
	hash, err := models.HashPassword(a.password)
	if err != nil {
		return nil, err
	}
	u := &models.User{Email: a.email, Name: "Administrator", PasswordHash: hash, IsAdmin: true, Provider: models.ProviderLocal}
	switch err := b.store.CreateUser(ctx, u); {
	case errors.Is(err, models.ErrConflict):
		return nil, nil // another process made it first
	case err != nil:
		return nil, fmt.Errorf("create first admin: %w", err)
	}
	b.logger.Info("created first administrator", "email", a.email)
	return a, nil
}
