package hub

// ConnectNative is runtime.connectNative(Host) from the realm; the reply is
// the new port's id.
type ConnectNative struct {
	Host string `json:"host"`
}

func (ConnectNative) command() string { return "cnative" }
