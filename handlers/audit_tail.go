package handlers

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
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
	// Checked before the stream opens: refused once, with 400, rather
	// than answered 200 and closed at the first read, which a browser's
	// EventSource would retry every few seconds.
	params, err := readAuditParams(ctx, c.QueryParams(), h.Store, time.Now())
	if err != nil {
		return err
	}
	f := params.Filter
	// From the last event the browser saw, or the newest now (whatever
	// it is: the cursor follows the log's head, not the last match, so a
	// tick reads only what is new).
	head, err := h.newestID(ctx)
	if err != nil {
		return err
	}
	// The browser's own Last-Event-ID, when it reconnects, is the one
	// we sent it, or else nothing to act on: it is not a person's typo.
	after, _ := strconv.ParseUint(c.Request().Header.Get("Last-Event-ID"), 10, 64)
	if after == 0 {
		after = params.After
	}
	if after == 0 || after > head {
		after = head
	}
	viewer := UserFrom(c)
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
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return nil
		case <-deadline:
			return nil
		case <-tick.C:
		}
		if n%tailRecheck == 0 && !h.stillStaff(ctx, viewer) {
			return nil // signed out, disabled or no longer allowed: the stream ends
		}
		if head, err = h.newestID(ctx); err != nil || head <= after {
			if err == nil && n%15 == 0 {
				// A comment now and then keeps idle proxies from closing it.
				_, _ = resp.Write([]byte(": keep-alive\n\n"))
				resp.Flush()
			}
			continue
		}
		events, err := h.Store.AuditEventsAfter(ctx, f, after, tailBatch)
		if err != nil {
			if ctx.Err() == nil {
				h.Logger.Warn("audit: live tail", "error", err)
			}
			return nil
		}
		now := time.Now()
		sent := after
		for i := range events {
			if events[i].ID > head {
				break
			}
			buf.Reset()
			if err := views.AuditTableRow(auditRow(&events[i]), now).Render(ctx, &buf); err != nil {
				return nil
			}
			sent = events[i].ID
			writeSSE(resp, "row", strconv.FormatUint(sent, 10), buf.String())
		}
		after = head
		if len(events) == tailBatch && sent < head {
			after = sent // more matches wait: the next tick goes on from here
		}
		if sent != after {
			// Nothing more matched up to the head: move the browser's
			// cursor there too, for when it reconnects.
			_, _ = resp.Write([]byte("id: " + strconv.FormatUint(after, 10) + "\n\n"))
		}
		resp.Flush()
	}
}

// Tail pacing: rows per tick at most, and how many ticks between checks
// that the viewer may still read the log.
const (
	tailBatch   = 100
	tailRecheck = 10
)

// newestID is the id of the newest event, whatever it is, or 0.
func (h *AuditLog) newestID(ctx context.Context) (uint64, error) {
	page, err := h.Store.ListAuditEvents(ctx, models.AuditFilter{}, 0, 1)
	if err != nil || len(page.Events) == 0 {
		return 0, err
	}
	return page.Events[0].ID, nil
}

// stillStaff reports whether the viewer of a long-lived stream may still
// read the audit log: not disabled, not signed out everywhere, still an
// admin or an auditor.
func (h *AuditLog) stillStaff(ctx context.Context, viewer *models.User) bool {
	u, err := h.Store.GetUser(ctx, viewer.ID)
	return err == nil && !u.Disabled && u.SessionEpoch == viewer.SessionEpoch && (u.IsAdmin || u.IsAuditor)
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
