package audit

import "github.com/prometheus/client_golang/prometheus"

// metrics are a Writer's Prometheus collectors.
type metrics struct {
	commitSeconds   *prometheus.HistogramVec
	batchEvents     prometheus.Histogram
	events          prometheus.Counter
	failures        *prometheus.CounterVec
	outcomesDropped prometheus.Counter
	streamDropped   prometheus.Counter
	chainGaps       prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, w *Writer) *metrics {
	m := &metrics{
		commitSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "drawbridge_audit_commit_seconds",
			Help:    "Time to commit one audit transaction, by what it wrote (events, outcomes).",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .5},
		}, []string{"op"}),
		batchEvents: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "drawbridge_audit_batch_events",
			Help:    "Audit events committed per transaction.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512},
		}),
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drawbridge_audit_events_total",
			Help: "Audit events committed.",
		}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drawbridge_audit_failures_total",
			Help: "Audit transactions that failed, by what they wrote (events: their requests were refused; outcomes: dropped).",
		}, []string{"op"}),
		streamDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drawbridge_audit_stream_dropped_total",
			Help: "Audit lines the JSON-lines stream could not keep up with; the database still holds them.",
		}),
		outcomesDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drawbridge_audit_outcomes_dropped_total",
			Help: "Outcomes dropped because their queue was full or the writer closed.",
		}),
		chainGaps: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drawbridge_audit_chain_gaps_total",
			Help: "Commits whose chain did not continue where this writer left it: deleted events, or a second process under the same writer name.",
		}),
	}
	queue := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "drawbridge_audit_queue_depth",
		Help: "Audit events waiting for their commit.",
	}, func() float64 { return float64(w.queued.Load()) })
	outcomeQueue := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "drawbridge_audit_outcome_queue_depth",
		Help: "Outcomes waiting to be written.",
	}, func() float64 { return float64(len(w.outcomes)) })
	inFlight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "drawbridge_audit_requests_in_flight",
		Help: "MCP POST requests being served, which a commit may linger for (see Writer.Expect).",
	}, func() float64 { return float64(w.inFlight.Load()) })
	if reg != nil {
		reg.MustRegister(m.commitSeconds, m.batchEvents, m.events, m.failures, m.outcomesDropped, m.streamDropped, m.chainGaps,
			queue, outcomeQueue, inFlight)
	}
	return m
}
