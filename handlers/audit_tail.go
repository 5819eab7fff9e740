package handlers

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/views"
)

// tailEvery is how often the live tail looks for new events: it reads the
// database, so events from every process and replica show.
const tailEvery = time.Second

// tailMax bounds one live tail connection's life; the browser's
// EventSource reconnects by itself, from the last row it got.
const tailMax = 30 * time.Minute

// Tail streams events matching the filters as they are recorded, as
// server-sent events named "row" whose data is the table row's HTML,
// rendered by the same component as the page's rows.
func (h *AuditLog) Tail(c echo.Context) error {
	ctx := c.Request().Context()
	_, f, problems, err := readAuditFilter(ctx, c, h.Store, time.Now())
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return echo.NewHTTPError(http.StatusBadRequest, "The filter is not valid.")
	}
	// From the last event the browser saw, or the newest now.
	after, _ := strconv.ParseUint(c.Request().Header.Get("Last-Event-ID"), 10, 64)
	if after == 0 {
		after, _ = strconv.ParseUint(c.QueryParam("after"), 10, 64)
	}
	if after == 0 {
		page, err := h.Store.ListAuditEvents(ctx, f, 0, 1)
		if err != nil {
			return err
		}
		if len(page.Events) > 0 {
			after = page.Events[0].ID
		}
	}
	resp := c.Response()
	resp.Header().Set(echo.HeaderContentType, "text/event-stream")
	resp.Header().Set("Cache-Control", "no-store")
	resp.Header().Set("X-Accel-Buffering", "no")
	resp.WriteHeader(http.StatusOK)
	_, _ = resp.Write([]byte("retry: 3000\n\n"))
	resp.Flush()

	tick := time.NewTicker(tailEvery)
	defer tick.Stop()
	deadline := time.After(tailMax)
	var buf bytes.Buffer
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-deadline:
			return nil
		case <-tick.C:
		}
		events, err := h.Store.AuditEventsAfter(ctx, f, after, 100)
		if err != nil {
			if ctx.Err() == nil {
				h.Logger.Warn("audit: live tail", "error", err)
			}
			return nil
		}
		now := time.Now()
		for i := range events {
			buf.Reset()
			if err := views.AuditTableRow(auditRow(&events[i]), now).Render(ctx, &buf); err != nil {
				return nil
			}
			after = events[i].ID
			writeSSE(resp, "row", strconv.FormatUint(after, 10), buf.String())
		}
		if len(events) == 0 {
			_, _ = resp.Write([]byte(": keep-alive\n\n"))
		}
		resp.Flush()
	}
}

// writeSSE writes one event; data's lines each become a data line.
func writeSSE(w http.ResponseWriter, event, id, data string) {
	var b strings.Builder
	b.WriteString("event: " + event + "\nid: " + id + "\n")
	for line := range strings.SplitSeq(data, "\n") {
		b.WriteString("data: " + strings.TrimSuffix(line, "\r") + "\n")
	}
	b.WriteString("\n")
	_, _ = w.Write([]byte(b.String()))
}
