package demo

import (
	"fmt"
	"strings"
)

// Order is one fake order in the demo data.
type Order struct {
	ID       string  `json:"id" jsonschema:"order identifier"`
	Customer string  `json:"customer" jsonschema:"customer name"`
	Status   string  `json:"status" jsonschema:"open, shipped or cancelled"`
	Total    float64 `json:"total" jsonschema:"order total in US dollars"`
	Created  string  `json:"created" jsonschema:"date the order was placed, YYYY-MM-DD"`
}

// Order statuses, the values search_orders accepts as a filter.
const (
	statusOpen      = "open"
	statusShipped   = "shipped"
	statusCancelled = "cancelled"
)

// orderBook is the demo's fixed, in-memory list of orders.
type orderBook struct {
	orders []Order
}

func newOrderBook() *orderBook {
	return &orderBook{orders: []Order{
		{"ORD-1001", "Acme Corp", statusShipped, 1249.00, "2025-01-06"},
		{"ORD-1002", "Globex", statusOpen, 89.50, "2025-01-09"},
		{"ORD-1003", "Initech", statusCancelled, 310.25, "2025-01-14"},
		{"ORD-1004", "Acme Corp", statusOpen, 42.00, "2025-01-20"},
		{"ORD-1005", "Umbrella Health", statusShipped, 5400.00, "2025-01-27"},
		{"ORD-1006", "Stark Industries", statusShipped, 18750.00, "2025-02-03"},
		{"ORD-1007", "Globex", statusShipped, 220.10, "2025-02-11"},
		{"ORD-1008", "Wayne Enterprises", statusOpen, 999.99, "2025-02-17"},
		{"ORD-1009", "Initech", statusShipped, 75.00, "2025-02-24"},
		{"ORD-1010", "Acme Corp", statusCancelled, 15.75, "2025-03-03"},
		{"ORD-1011", "Hooli", statusOpen, 3120.40, "2025-03-10"},
		{"ORD-1012", "Soylent Foods", statusShipped, 640.00, "2025-03-18"},
		{"ORD-1013", "Wayne Enterprises", statusShipped, 12.30, "2025-03-25"},
		{"ORD-1014", "Hooli", statusCancelled, 870.00, "2025-04-01"},
		{"ORD-1015", "Umbrella Health", statusOpen, 2300.00, "2025-04-08"},
		{"ORD-1016", "Acme Corp", statusShipped, 505.55, "2025-04-15"},
		{"ORD-1017", "Stark Industries", statusOpen, 64.00, "2025-04-22"},
		{"ORD-1018", "Soylent Foods", statusCancelled, 199.00, "2025-04-29"},
		{"ORD-1019", "Globex", statusOpen, 1430.80, "2025-05-06"},
		{"ORD-1020", "Initech", statusShipped, 288.00, "2025-05-13"},
	}}
}

// search returns up to limit orders, oldest first, whose customer contains
// customer (ignoring case) and whose status is status; an empty filter
// matches everything. matched counts every match, before the limit.
func (b *orderBook) search(customer, status string, limit int) (orders []Order, matched int) {
	orders = []Order{} // never nil: the output schema wants an array, not null
	for _, o := range b.orders {
		if customer != "" && !strings.Contains(strings.ToLower(o.Customer), strings.ToLower(customer)) {
			continue
		}
		if status != "" && o.Status != status {
			continue
		}
		matched++
		if len(orders) < limit {
			orders = append(orders, o)
		}
	}
	return orders, matched
}

// summarize describes a search result for clients that read text only.
func summarize(orders []Order, matched int) string {
	var b strings.Builder
	switch {
	case matched == 0:
		return "No orders match."
	case len(orders) < matched:
		fmt.Fprintf(&b, "%d orders match; showing the first %d:\n", matched, len(orders))
	default:
		fmt.Fprintf(&b, "%d orders match:\n", matched)
	}
	for _, o := range orders {
		fmt.Fprintf(&b, "%s  %s  %-18s %-9s $%.2f\n", o.ID, o.Created, o.Customer, o.Status, o.Total)
	}
	return b.String()
}
