package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Bounds on the children's lives.
const (
	startTimeout = 30 * time.Second // until a child prints its ready line
	stopGrace    = 5 * time.Second  // from SIGTERM to SIGKILL
)

// child is a process the benchmark started, in its own process group so
// that it, and anything it starts (nginx's workers), can be measured and
// ended together.
type child struct {
	name  string
	cmd   *exec.Cmd
	lines chan []byte   // its stdout, line by line
	done  chan struct{} // closed when it has exited
	ready ready
}

// startSelf re-executes this program as a child and waits for its ready
// line.
func startSelf(ctx context.Context, name string, env []string, stderr io.Writer, args ...string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	c, err := startProcess(name, exe, args, env, stderr)
	if err != nil {
		return nil, err
	}
	line, err := c.next(ctx, startTimeout)
	if err == nil {
		err = json.Unmarshal(line, &c.ready)
	}
	if err != nil {
		c.stop()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

// startProcess starts path in a new process group that dies with us: the
// kernel sends it SIGKILL should this process die before stopping it.
func startProcess(name, path string, args, env []string, stderr io.Writer) (*child, error) {
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Stderr = &prefixWriter{w: stderr, prefix: "[" + name + "] "}
	cmd.WaitDelay = stopGrace
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = w
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	w.Close()
	c := &child{name: name, cmd: cmd, lines: make(chan []byte, 16), done: make(chan struct{})}
	go func() {
		defer r.Close()
		defer close(c.lines)
		sc := bufio.NewScanner(r)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			c.lines <- bytes.Clone(sc.Bytes())
		}
	}()
	go func() {
		_ = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// next returns the child's next line on stdout.
func (c *child) next(ctx context.Context, timeout time.Duration) ([]byte, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case line, ok := <-c.lines:
		if !ok {
			<-c.done
			return nil, fmt.Errorf("exited (%v) without a word", c.cmd.ProcessState)
		}
		return line, nil
	case <-timer.C:
		return nil, fmt.Errorf("said nothing for %s", timeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// pid is the child's process ID, which is also its process group's.
func (c *child) pid() int { return c.cmd.Process.Pid }

// usage is the child's, and its own children's, CPU and memory.
func (c *child) usage() (usage, error) { return groupUsage(c.pid()) }

// exited reports whether the child has ended.
func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop ends the child's process group: SIGTERM, which lets a gateway
// write its CPU profile, then SIGKILL after stopGrace.
func (c *child) stop() {
	if c == nil || c.exited() {
		return
	}
	_ = syscall.Kill(-c.pid(), syscall.SIGTERM)
	select {
	case <-c.done:
		return
	case <-time.After(stopGrace):
	}
	_ = syscall.Kill(-c.pid(), syscall.SIGKILL)
	select {
	case <-c.done:
	case <-time.After(stopGrace):
	}
}

// children stops every child it was given, last started first.
type children struct {
	mu   sync.Mutex
	list []*child
}

func (cs *children) add(c *child) *child {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.list = append(cs.list, c)
	return c
}

// groups are the process groups of the children still running.
func (cs *children) groups() map[int]bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	out := make(map[int]bool, len(cs.list))
	for _, c := range cs.list {
		out[c.pid()] = true
	}
	return out
}

func (cs *children) stopAll() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for i := len(cs.list) - 1; i >= 0; i-- {
		cs.list[i].stop()
	}
	cs.list = nil
}

// prefixWriter passes a child's stderr on, each line marked with its name.
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		if _, err := fmt.Fprintf(p.w, "%s%s", p.prefix, p.buf[:i+1]); err != nil {
			return 0, err
		}
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}
