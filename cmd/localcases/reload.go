package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/localcases/localcases/auth"
	"github.com/localcases/localcases/internal/server"
)

// reloadOnHangup re-reads the credentials and policies of the config file on
// SIGHUP and swaps them in; requests in flight finish under the old ones and
// none is dropped. A file that fails to load leaves the running ones alone.
func reloadOnHangup(srv *server.Server, configFile string, log *slog.Logger) (stop func()) {
	if configFile == "" {
		return func() {}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-hup:
				var cfg struct {
					Auth auth.Config `yaml:"auth" json:"auth"`
				}
				mode := srv.Config().Auth.Mode
				err := loadConfigFileLoose(configFile, &cfg)
				if err == nil {
					if cfg.Auth.Mode == "" {
						cfg.Auth.Mode = mode // a --auth flag keeps its say
					}
					err = srv.SetAuth(cfg.Auth)
				}
				if err != nil {
					log.Error("reload: keeping the current credentials", "file", configFile, "err", err)
					continue
				}
				log.Info("reload: credentials and policies replaced", "file", configFile, "credentials", len(cfg.Auth.Credentials))
			}
		}
	}()
	return func() { signal.Stop(hup); close(done) }
}

// exposureWarning says loudly when the server listens beyond loopback with
// nothing guarding it.
func exposureWarning(addr net.Addr, cfg server.Config) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || tcp.IP.IsLoopback() {
		return ""
	}
	if cfg.Auth.Mode == auth.Strict {
		return ""
	}
	return fmt.Sprintf("WARNING: listening on %s beyond loopback with --auth permissive: anyone who can reach it can read and change all state. Use --auth strict with credentials in --config. Clients that reach it by a host name (not an IP address or localhost) need that name in --allow-host.", tcp)
}
