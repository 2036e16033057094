package driver

import (
	"context"
	"errors"
)

func launchFirefox(ctx context.Context, b *Browser, bin string, opts Options, dirs []string) (browserImpl, error) {
	return nil, errors.New("failed to launch Firefox: not implemented yet")
}
