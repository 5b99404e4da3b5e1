package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/dotenv"
)

func main() {
	out := []map[string]interface{}{}
	for _, p := range os.Args[1:] {
		f, err := os.Open(p)
		if err != nil {
			panic(err)
		}
		vars := map[string]string{}
		err = dotenv.ParseWithFormat(f, p, vars, func(string) (string, bool) { return "", false }, "")
		f.Close()
		if err != nil {
			out = append(out, map[string]interface{}{"error": err.Error()})
		} else {
			out = append(out, map[string]interface{}{"ok": vars})
		}
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}
