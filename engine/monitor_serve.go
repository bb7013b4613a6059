package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"
)

// AdminHandler returns the monitoring routes when they are served on an
// admin address of their own (MonitorConfig.Addr), for mounting on a
// server of your own; it returns nil otherwise, when they are part of
// Handler.
func (e *Engine) AdminHandler() http.Handler {
	if e.mon.admin == nil {
		return nil
	}
	return e.mon.admin
}

// ServeAdmin serves the monitoring routes on ln until Shutdown, when
// MonitorConfig.Addr is set. Serve calls it with a listener on that
// address unless it was called first. It returns http.ErrServerClosed
// after Shutdown.
func (e *Engine) ServeAdmin(ln net.Listener) error {
	if e.mon.admin == nil {
		ln.Close()
		return errors.New("engine: no admin routes to serve: set MonitorConfig.Addr (-monitor-addr) to serve monitoring on an address of its own")
	}
	srv := &http.Server{
		Handler:           e.mon.admin,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          e.log.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}
	e.mu.Lock()
	closing, twice := e.closing, e.mon.srv != nil
	if !closing && !twice {
		e.mon.srv = srv
	}
	e.mu.Unlock()
	switch {
	case closing:
		ln.Close()
		return http.ErrServerClosed
	case twice:
		ln.Close()
		return errors.New("engine: ServeAdmin called twice")
	}
	e.log.Info("serving monitoring", "url", "http://"+ln.Addr().String()+"/monitor")
	return srv.Serve(ln)
}

// listenAdmin starts serving the admin address, if one is configured
// and it is not served yet.
func (e *Engine) listenAdmin() error {
	e.mu.Lock()
	skip := e.mon.admin == nil || e.mon.srv != nil || e.mon.listening
	e.mon.listening = true
	e.mu.Unlock()
	if skip {
		return nil
	}
	ln, err := net.Listen("tcp", e.mon.cfg.Addr)
	if err != nil {
		return fmt.Errorf("engine: monitoring address: %w", err)
	}
	go func() {
		if err := e.ServeAdmin(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Error("monitoring server failed", "error", err)
		}
	}()
	return nil
}

// shutdownAdmin stops the admin server, if it runs.
func (e *Engine) shutdownAdmin(ctx context.Context) error {
	e.mu.Lock()
	srv := e.mon.srv
	e.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Shutdown(ctx)
}
