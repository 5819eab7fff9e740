package models

import (
	"context"
	"strings"
)

// actorKey is the context key under which WithActor stores the actor.
type actorKey struct{}

// ActorSystem is the actor recorded for changes made with no actor in the
// context: migrations, `drawbridge apply`, sign-ins that update a user.
const ActorSystem = "system"

// WithActor returns a copy of ctx that names who is making configuration
// changes, such as a signed-in admin's email; every change written with
// that context records it in the history.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, strings.TrimSpace(actor))
}

// ActorFrom returns the actor WithActor stored in ctx, or "" if none.
func ActorFrom(ctx context.Context) string {
	actor, _ := ctx.Value(actorKey{}).(string)
	return actor
}

// actorOf returns the actor to record for a change made with ctx.
func actorOf(ctx context.Context) string {
	if actor := ActorFrom(ctx); actor != "" {
		return actor
	}
	return ActorSystem
}
