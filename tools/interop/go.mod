module github.com/tickwire/tickwire/tools/interop

go 1.26.0

require (
	github.com/gorilla/websocket v1.5.3
	github.com/tickwire/tickwire v0.0.0
)

replace github.com/tickwire/tickwire => ../..
