package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// Pinger is what readiness needs of the store.
type Pinger interface {
	Ping(ctx context.Context) error
	ConfigVersion(ctx context.Context) (int64, error)
}

// GatewayStatus is what readiness needs of the gateway engine: the
// configuration version it serves, and why a newer one could not be
// applied, if it could not.
type GatewayStatus interface {
	ServedVersion() int64
	LastError() (error, time.Time)
}

// Health answers liveness and readiness probes.
type Health struct {
	Store   Pinger
	Gateway GatewayStatus
}

// Live answers 200 while the process serves requests.
func (h *Health) Live(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// Ready answers 200 when the database answers and the configuration has
// been loaded, 503 otherwise, naming what is wrong.
func (h *Health) Ready(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"database": "ok", "config": "ok"}
	status := http.StatusOK
	if err := h.Store.Ping(ctx); err != nil {
		checks["database"], status = "unreachable", http.StatusServiceUnavailable
	}
	if _, err := h.Store.ConfigVersion(ctx); err != nil {
		checks["config"], status = "not loaded", http.StatusServiceUnavailable
	}
	body := map[string]any{"status": http.StatusText(status), "checks": checks}
	if h.Gateway != nil {
		body["config_version"] = h.Gateway.ServedVersion()
		// A configuration that failed to compile leaves the last good one
		// serving: still ready, but the details say why it is not newer.
		if err, at := h.Gateway.LastError(); err != nil {
			checks["config"] = "stale: the newest configuration was not applied"
			body["config_error"] = err.Error()
			body["config_error_at"] = at.UTC().Format(time.RFC3339)
		}
	}
	return c.JSON(status, body)
}
