package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/drawbridge/drawbridge/models"
)

const auditUsage = `Usage: drawbridge audit verify [flags]

Checks the audit log's hash chains, one per process that wrote it, and
names the first broken link of each: an edited, deleted or reordered
event. Exits 1 when a chain is broken. Takes --config, --data-dir and the
other serve flags.
`

// auditCommand checks the audit log from the terminal.
func auditCommand(ctx context.Context, args []string, env environment, sio stdio) error {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprint(sio.err, auditUsage)
		return errors.New("audit: the command is verify")
	}
	var f configFlags
	fs := newFlagSet("audit verify", sio.err)
	f.register(fs)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	b, err := openBackend(ctx, f, env, sio.err)
	if err != nil {
		return err
	}
	defer b.Close()
	chains, err := b.store.VerifyAuditChains(ctx)
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	settings, err := b.store.GetSettings(ctx)
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	if len(chains) == 0 {
		fmt.Fprintln(sio.out, "The audit log is empty.")
		return nil
	}
	tw := tabwriter.NewWriter(sio.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WRITER\tEVENTS\tLAST SEQ\tSTATUS")
	var broken []string
	results := make([]models.AuditChainResult, len(chains))
	for i, c := range chains {
		results[i] = c.Result(settings.AuditRetentionDays)
		status := "intact, head " + shortHash(c.LastHash)
		switch {
		case c.Break != nil:
			status = fmt.Sprintf("BROKEN at event %d (seq %d): %s", c.Break.ID, c.Break.Seq, c.Break.Problem)
			broken = append(broken, c.Writer)
		case !results[i].OK:
			status = "BROKEN: " + results[i].Problem
			broken = append(broken, c.Writer)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", c.Writer, c.Events, c.LastSeq, status)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// The console shows when the log was last verified, by whom, and
	// what was found in each chain.
	if err := b.store.RecordAuditVerification(models.WithActor(ctx, "cli"), time.Now(), results); err != nil {
		return fmt.Errorf("audit verify: record the result: %w", err)
	}
	if len(broken) > 0 {
		return fmt.Errorf("audit verify: %d chain(s) broken: %s", len(broken), strings.Join(broken, ", "))
	}
	return nil
}

// shortHash shows enough of a hash to compare by eye.
func shortHash(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	return h
}
