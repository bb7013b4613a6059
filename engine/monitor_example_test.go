package engine_test

import (
	"log"
	"os"

	"github.com/tickwire/tickwire/engine"
)

// Monitoring on an admin address of its own, behind a token: the
// dashboard is then http://127.0.0.1:9090/monitor?token=..., the metrics
// http://127.0.0.1:9090/metrics, and the public address serves players only.
func ExampleMonitorConfig() {
	e, err := engine.New(engine.Config{
		Addr: "0.0.0.0:8080",
		Monitor: engine.MonitorConfig{
			Addr:  "127.0.0.1:9090",
			Token: os.Getenv("TICKWIRE_MONITOR_TOKEN"),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	// Register games here, then:
	log.Fatal(e.ListenAndServe()) // serves both addresses
}
