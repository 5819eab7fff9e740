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

// Health answers liveness and readiness probes.
type Health struct {
	Store Pinger
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
	return c.JSON(status, map[string]any{"status": http.StatusText(status), "checks": checks})
}
