package localapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Listen opens a TCP listener on addr, which must be 127.0.0.1:PORT (port 0
// picks a free port). The local runner API hands out tokens and runs jobs
// for any client that connects, so it never listens beyond the loopback
// address.
func Listen(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("invalid listen address %q: use 127.0.0.1:PORT", addr)
	}
	if host != "127.0.0.1" {
		return nil, fmt.Errorf("invalid listen address %q: the local runner API listens on 127.0.0.1 only", addr)
	}
	return net.Listen("tcp", addr)
}

type httpServer struct {
	server   *http.Server
	listener net.Listener
	done     chan error
}

// Start listens on addr (see Listen) and serves in the background until
// Close. It returns the base URL, such as http://127.0.0.1:41234.
func (s *Server) Start(addr string) (string, error) {
	listener, err := Listen(addr)
	if err != nil {
		return "", err
	}

	server := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	s.http = &httpServer{server: server, listener: listener, done: make(chan error, 1)}
	go func() {
		err := server.Serve(listener)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.http.done <- err
	}()
	return s.URL(), nil
}

// URL returns the base URL of a started server, or "" before Start.
func (s *Server) URL() string {
	if s.http == nil {
		return ""
	}
	return "http://" + s.http.listener.Addr().String()
}

// Close stops a started server, waiting up to five seconds for requests in
// progress, such as a long /local/wait, before it closes their connections.
func (s *Server) Close() error {
	if s.http == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	if err := s.http.server.Shutdown(ctx); err != nil {
		s.http.server.Close()
	}
	return <-s.http.done
}
