package handlers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/views"
)

// Verify checks every writer's hash chain now and records what it found
// in each, for the audit log page to show until the next run. Only one
// runs at a time: a walk reads every event, and a second one started
// while it runs would find nothing new, only double the load.
func (h *AuditLog) Verify(c echo.Context) error {
	if !h.verifying.TryLock() {
		return h.redirectWithFlash(c, "/admin/audit", views.FlashInfo, "A verification is already running; try again when it finishes.")
	}
	defer h.verifying.Unlock()
	ctx := c.Request().Context()
	chains, err := h.Store.VerifyAuditChains(ctx)
	if err != nil {
		return err
	}
	st, err := h.Store.GetSettings(ctx)
	if err != nil {
		return err
	}
	results := make([]models.AuditChainResult, len(chains))
	for i, ch := range chains {
		results[i] = ch.Result(st.AuditRetentionDays)
		if ch.CheckpointSeq != 0 && st.AuditRetentionDays == 0 {
			// Recorded only when there is no break (which names an event):
			// the flash says both.
			h.Sessions.AddFlash(c, views.Flash{Kind: views.FlashError, Message: "The chain of " + ch.Writer + " " + ch.CheckpointProblem() + "."})
		}
	}
	if err := h.Store.RecordAuditVerification(ctx, time.Now(), results); err != nil {
		return err
	}
	ok := true
	for _, r := range results {
		ok = ok && r.OK
	}
	if ok {
		h.Sessions.AddFlash(c, views.Flash{Kind: views.FlashSuccess, Message: "Every chain of the audit log verifies (" +
			plural(len(chains), "writer") + "): nothing was edited, deleted or reordered."})
	}
	for _, ch := range chains {
		if ch.Break != nil {
			h.Sessions.AddFlash(c, views.Flash{Kind: views.FlashError, Message: "The chain of " + ch.Writer + " breaks at event " +
				strconv.FormatUint(ch.Break.ID, 10) + " (seq " + strconv.FormatUint(ch.Break.Seq, 10) + "): " + ch.Break.Problem + "."})
		}
	}
	return c.Redirect(http.StatusSeeOther, "/admin/audit")
}

// auditChainRows are a recorded verification's chains as the Integrity
// table shows them.
func auditChainRows(chains []models.AuditChainResult) []views.AuditChainRow {
	rows := make([]views.AuditChainRow, len(chains))
	for i, ch := range chains {
		rows[i] = views.AuditChainRow{
			Writer: ch.Writer, Events: ch.Events, LastSeq: ch.LastSeq, OK: ch.OK, Problem: ch.Problem,
			CheckpointSeq: ch.CheckpointSeq, BrokenID: ch.BrokenID,
		}
		if ch.BrokenID != 0 {
			rows[i].BrokenURL = "/admin/audit/" + strconv.FormatUint(ch.BrokenID, 10)
		} else if !ch.OK {
			// The problem is the checkpoint itself (see Verify), and
			// says so: the table's usual note, that retention removed
			// the events before it, would contradict it.
			rows[i].CheckpointSeq = 0
		}
	}
	return rows
}
