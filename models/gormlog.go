package models

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm/logger"
)

// slowQuery is the duration past which a statement is logged as slow.
const slowQuery = 200 * time.Millisecond

// gormLogger routes GORM's logging to slog, keeping only what is worth an
// operator's attention: slow statements and GORM's own warnings. Statement
// errors are not logged here, because every store method returns them and
// the caller decides (a missing row or a duplicate email is not an
// incident).
type gormLogger struct {
	log *slog.Logger
}

var (
	_ logger.Interface = gormLogger{}
	_ interface {
		ParamsFilter(context.Context, string, ...any) (string, []any)
	} = gormLogger{}
)

func newGormLogger(log *slog.Logger) gormLogger { return gormLogger{log: log} }

func (l gormLogger) LogMode(logger.LogLevel) logger.Interface { return l }

func (l gormLogger) Info(context.Context, string, ...any) {}

func (l gormLogger) Warn(ctx context.Context, msg string, args ...any) {
	l.log.WarnContext(ctx, "models: gorm: "+fmt.Sprintf(msg, args...))
}

func (l gormLogger) Error(ctx context.Context, msg string, args ...any) {
	l.log.ErrorContext(ctx, "models: gorm: "+fmt.Sprintf(msg, args...))
}

func (l gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), _ error) {
	elapsed := time.Since(begin)
	if elapsed < slowQuery {
		return
	}
	sql, rows := fc()
	l.log.WarnContext(ctx, "models: slow query", "elapsed", elapsed, "rows", rows, "sql", sql)
}

// ParamsFilter drops bound values from logged SQL: they include password
// hashes, encrypted secrets and email addresses.
func (l gormLogger) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}
