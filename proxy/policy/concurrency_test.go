package policy

import (
	"sync"
	"testing"
)

// TestConcurrentEvaluation shares one Policy between goroutines, each with
// its own Input, as the proxy does; run with -race.
func TestConcurrentEvaluation(t *testing.T) {
	p := parse(t, twentyRules)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				in := benchInput()
				if (g+i)%2 == 0 {
					in.MCPTool = "admin_users"
				}
				want := in.MCPTool != "admin_users"
				if d := p.Evaluate(in); d.Allow != want {
					t.Errorf("Evaluate = %v, want %v", d, want)
					return
				}
				if p.Allowed(in) != want || p.Explain(in).Decision.Allow != want {
					t.Error("Allowed or Explain disagrees")
					return
				}
			}
		}()
	}
	wg.Wait()
}
