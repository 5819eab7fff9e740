package proxy

import "github.com/prometheus/client_golang/prometheus"

// metrics are the engine's Prometheus collectors.
type metrics struct {
	requests      *prometheus.CounterVec
	overhead      *prometheus.HistogramVec
	reloads       prometheus.Counter
	reloadErrors  prometheus.Counter
	configVersion prometheus.Gauge
	unaudited     prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drawbridge_proxy_requests_total",
			Help: "Requests to route hosts, by route, decision (allow, deny, unauthenticated, invalid, error) and status.",
		}, []string{"route", "decision", "status"}),
		overhead: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "drawbridge_proxy_overhead_seconds",
			Help:    "Time the gateway spends on a request before forwarding it upstream, by route.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .1},
		}, []string{"route"}),
		reloads: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drawbridge_proxy_reloads_total",
			Help: "Configuration snapshots built and swapped in.",
		}),
		reloadErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drawbridge_proxy_reload_errors_total",
			Help: "Configuration snapshots that failed to build; the last good one kept serving.",
		}),
		configVersion: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "drawbridge_proxy_config_version",
			Help: "The configuration version being served.",
		}),
		unaudited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drawbridge_proxy_unaudited_total",
			Help: "Requests let through without an audit record, because audit fail-open is on and the log could not be written.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.overhead, m.reloads, m.reloadErrors, m.configVersion, m.unaudited)
	}
	return m
}
