package main

import (
	"context"
	"errors"
)

func runTopics(ctx context.Context, args []string) error { return errors.New("not implemented yet") }
