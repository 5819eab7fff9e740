package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Tool names, as clients and the gateway's policies see them.
const (
	ToolEcho         = "echo"
	ToolAdd          = "add"
	ToolSearchOrders = "search_orders"
	ToolAdminReset   = "admin_reset"
)

// search_orders limit bounds.
const (
	defaultLimit = 10
	maxLimit     = 50
)

// addTools registers every demo tool on server.
//
// Input and output schemas are inferred from the typed structs below; a
// handler's returned error becomes a tool result with isError set, not a
// protocol error, and so does input that fails its schema.
func addTools(server *mcp.Server, orders *orderBook) {
	t := &tools{orders: orders}
	mcp.AddTool(server, &mcp.Tool{
		Name:        ToolEcho,
		Title:       "Echo",
		Description: "Returns the given text unchanged. Useful to check that calls get through.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: new(false)},
	}, t.Echo)
	mcp.AddTool(server, &mcp.Tool{
		Name:        ToolAdd,
		Title:       "Add",
		Description: "Adds two numbers and returns their sum.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: new(false)},
	}, t.Add)
	mcp.AddTool(server, &mcp.Tool{
		Name:  ToolSearchOrders,
		Title: "Search orders",
		Description: "Searches the demo's fake orders. Filters by customer name (case-insensitive substring) " +
			"and status (open, shipped or cancelled); returns at most limit orders (1 to 50, default 10), oldest first.",
		InputSchema: searchOrdersSchema(),
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: new(false)},
	}, t.SearchOrders)
	mcp.AddTool(server, &mcp.Tool{
		Name:  ToolAdminReset,
		Title: "Reset demo data (admin)",
		Description: "Administrative tool: resets the demo order data to its initial state. " +
			"Does nothing unless confirm is true. Meant for operators only; gateways usually deny admin_ tools.",
		Annotations: &mcp.ToolAnnotations{DestructiveHint: new(true), IdempotentHint: true, OpenWorldHint: new(false)},
	}, t.AdminReset)
}

// tools holds the demo tools' handlers.
type tools struct {
	orders *orderBook
}

// EchoInput is the input of the echo tool.
type EchoInput struct {
	Text string `json:"text" jsonschema:"the text to return"`
}

// EchoOutput is the output of the echo tool.
type EchoOutput struct {
	Text string `json:"text" jsonschema:"the text that was sent"`
}

// Echo returns the text it was given.
func (t *tools) Echo(_ context.Context, _ *mcp.CallToolRequest, in EchoInput) (*mcp.CallToolResult, EchoOutput, error) {
	return textResult(in.Text), EchoOutput{Text: in.Text}, nil
}

// AddInput is the input of the add tool.
type AddInput struct {
	A float64 `json:"a" jsonschema:"the first number"`
	B float64 `json:"b" jsonschema:"the second number"`
}

// AddOutput is the output of the add tool.
type AddOutput struct {
	Sum float64 `json:"sum" jsonschema:"a + b"`
}

// Add returns the sum of two numbers.
func (t *tools) Add(_ context.Context, _ *mcp.CallToolRequest, in AddInput) (*mcp.CallToolResult, AddOutput, error) {
	sum := in.A + in.B
	return textResult(strconv.FormatFloat(sum, 'g', -1, 64)), AddOutput{Sum: sum}, nil
}

// SearchOrdersInput is the input of the search_orders tool.
type SearchOrdersInput struct {
	Customer string `json:"customer,omitempty" jsonschema:"only orders whose customer name contains this text, ignoring case"`
	Status   string `json:"status,omitempty" jsonschema:"only orders with this status"`
	Limit    int    `json:"limit,omitempty" jsonschema:"the most orders to return"`
}

// SearchOrdersOutput is the output of the search_orders tool.
type SearchOrdersOutput struct {
	Orders  []Order `json:"orders" jsonschema:"the matching orders, oldest first, at most limit of them"`
	Matched int     `json:"matched" jsonschema:"how many orders match, before the limit"`
}

// searchOrdersSchema is the schema inferred from SearchOrdersInput plus what
// struct tags cannot say: the allowed statuses and the limit's range and
// default. The SDK validates arguments against it and fills in the default
// before SearchOrders runs, and reports a violation as a tool error.
func searchOrdersSchema() *jsonschema.Schema {
	schema, err := jsonschema.For[SearchOrdersInput](nil)
	if err != nil {
		panic(fmt.Sprintf("demo: search_orders schema: %v", err)) // a bug in the struct above
	}
	schema.Properties["status"].Enum = []any{statusOpen, statusShipped, statusCancelled}
	limit := schema.Properties["limit"]
	limit.Minimum = new(float64(1))
	limit.Maximum = new(float64(maxLimit))
	limit.Default = json.RawMessage(strconv.Itoa(defaultLimit))
	return schema
}

// SearchOrders searches the fake orders.
func (t *tools) SearchOrders(_ context.Context, _ *mcp.CallToolRequest, in SearchOrdersInput) (*mcp.CallToolResult, SearchOrdersOutput, error) {
	orders, matched := t.orders.search(in.Customer, in.Status, in.Limit)
	return textResult(summarize(orders, matched)), SearchOrdersOutput{Orders: orders, Matched: matched}, nil
}

// AdminResetInput is the input of the admin_reset tool.
type AdminResetInput struct {
	Confirm bool `json:"confirm,omitempty" jsonschema:"must be true for the reset to happen"`
}

// AdminResetOutput is the output of the admin_reset tool.
type AdminResetOutput struct {
	Reset  bool `json:"reset" jsonschema:"whether the data was reset"`
	Orders int  `json:"orders" jsonschema:"how many orders the demo data holds after the reset"`
}

// errNotConfirmed is admin_reset's answer when confirm is not true.
var errNotConfirmed = errors.New("admin_reset: not confirmed; call again with confirm: true to reset the demo data")

// AdminReset pretends to reset the demo data: the orders never change, so
// there is nothing to restore.
func (t *tools) AdminReset(_ context.Context, _ *mcp.CallToolRequest, in AdminResetInput) (*mcp.CallToolResult, AdminResetOutput, error) {
	if !in.Confirm {
		return nil, AdminResetOutput{}, errNotConfirmed
	}
	n := len(t.orders.orders)
	return textResult(fmt.Sprintf("Demo data reset: %d orders restored.", n)), AdminResetOutput{Reset: true, Orders: n}, nil
}

func textResult(text string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}
}
