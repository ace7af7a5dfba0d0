// The Tekton Triggers EventListener sink (github.com/tektoncd/triggers v0.34.0, its library packages), with one
// difference from the upstream command: host names are resolved in the process, never by a DNS server. The sink
// calls interceptors by their Services' cluster names (https://tekton-triggers-core-interceptors.tekton-pipelines.svc:8443);
// off a cluster the system resolver would send those names to the machine's name server, off loopback. Here a name
// listed in APHEX_LOOPBACK_NAMES (comma-separated) resolves to 127.0.0.1, every other name is refused - and each
// answer is written to stderr ("aphex-resolver: answered|refused NAME"), so a test can count them.
package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	eventing "knative.dev/eventing/pkg/adapter/v2"
	kubeclient "knative.dev/pkg/client/injection/kube/client"
	"knative.dev/pkg/controller"
	"knative.dev/pkg/injection"
	"knative.dev/pkg/injection/clients/dynamicclient"
	"knative.dev/pkg/signals"

	"github.com/tektoncd/triggers/pkg/adapter"
	triggersclient "github.com/tektoncd/triggers/pkg/client/injection/client"
	"github.com/tektoncd/triggers/pkg/sink"
	"github.com/tektoncd/triggers/pkg/sink/cloudevent"
)

func loopbackNames() map[string]bool {
	names := map[string]bool{}
	for _, name := range strings.Split(os.Getenv("APHEX_LOOPBACK_NAMES"), ",") {
		if name = strings.TrimSuffix(strings.TrimSpace(name), "."); name != "" {
			names[name] = true
		}
	}
	return names
}

// answer serves DNS over a stream (two-byte length, then the message), as Go's resolver speaks it to a connection
// that is not a packet connection.
func answer(conn net.Conn, names map[string]bool) {
	defer conn.Close()
	for {
		var size uint16
		if err := binary.Read(conn, binary.BigEndian, &size); err != nil {
			return
		}
		query := make([]byte, size)
		if _, err := io.ReadFull(conn, query); err != nil {
			return
		}
		var parser dnsmessage.Parser
		header, err := parser.Start(query)
		if err != nil {
			return
		}
		question, err := parser.Question()
		if err != nil {
			return
		}
		name := strings.TrimSuffix(question.Name.String(), ".")
		response := dnsmessage.Message{
			Header:    dnsmessage.Header{ID: header.ID, Response: true, Authoritative: true, RCode: dnsmessage.RCodeNameError},
			Questions: []dnsmessage.Question{question},
		}
		if names[name] {
			response.Header.RCode = dnsmessage.RCodeSuccess
			if question.Type == dnsmessage.TypeA {
				response.Answers = []dnsmessage.Resource{{
					Header: dnsmessage.ResourceHeader{Name: question.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 5},
					Body:   &dnsmessage.AResource{A: [4]byte{127, 0, 0, 1}},
				}}
			}
			fmt.Fprintf(os.Stderr, "aphex-resolver: answered %s %s 127.0.0.1\n", question.Type, name)
		} else {
			fmt.Fprintf(os.Stderr, "aphex-resolver: refused %s %s\n", question.Type, name)
		}
		packed, err := response.Pack()
		if err != nil {
			return
		}
		if err := binary.Write(conn, binary.BigEndian, uint16(len(packed))); err != nil {
			return
		}
		if _, err := conn.Write(packed); err != nil {
			return
		}
	}
}

func main() {
	names := loopbackNames()
	net.DefaultResolver = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		client, server := net.Pipe()
		go answer(server, names)
		return client, nil
	}}

	config := injection.ParseAndGetRESTConfigOrDie()
	ctx := injection.WithConfig(signals.NewContext(), config)
	ctx = context.WithValue(ctx, dynamicclient.Key{}, dynamic.NewForConfigOrDie(config))
	arguments, err := sink.GetArgs()
	if err != nil {
		log.Fatal(err)
	}
	recorder, err := sink.NewRecorder()
	if err != nil {
		log.Fatal(err)
	}
	if !arguments.IsMultiNS {
		ctx = injection.WithNamespaceScope(ctx, arguments.ElNamespace)
	}
	ctx, informers := injection.Default.SetupInformers(ctx, config)
	if err := controller.StartInformers(ctx.Done(), informers...); err != nil {
		log.Fatal("starting the informers: ", err)
	}
	kube := kubeclient.Get(ctx).(*kubernetes.Clientset)
	clients := sink.Clients{
		DiscoveryClient: kube.Discovery(),
		RESTClient:      kube.RESTClient(),
		TriggersClient:  triggersclient.Get(ctx),
		K8sClient:       kube,
		CEClient:        cloudevent.Get(ctx),
	}
	eventing.MainWithContext(ctx, "eventlistener", adapter.NewEnvConfig, adapter.New(arguments, clients, recorder))
}
