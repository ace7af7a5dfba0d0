// Command cert-manager-controller runs cert-manager's own controllers, from the Go module of the release the
// catalog's chart pins, as one local process of the test platform (harness/platform/stack.py): the chart's
// Deployment is only a KWOK pod there, as ArgoCD's are.
//
// Linked in are the controllers of Certificates, CertificateRequests, Issuers, ClusterIssuers and the
// ingress-shim, and the two issuer types that need nothing but the API server: selfSigned and CA. The issuer types
// that dial out of the machine - ACME (Let's Encrypt, DNS providers), Vault, Venafi - are not in the binary at
// all (harness/builds/build-cert-manager.sh refuses a build whose package list has them), so nothing this process
// does can leave loopback: an ACME issuer is an issuer type it does not know.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"
	"time"

	controllerpkg "github.com/cert-manager/cert-manager/pkg/controller"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/klog/v2"

	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificate-shim/ingresses"
	_ "github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	_ "github.com/cert-manager/cert-manager/pkg/controller/issuers"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the identity the controller acts as")
	clusterResourceNamespace := flag.String("cluster-resource-namespace", "cert-manager",
		"where the secrets of ClusterIssuers are (the chart sets its own namespace)")
	workers := flag.Int("workers", 5, "workers per controller")
	klog.InitFlags(nil)
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx = logf.NewContext(ctx, klog.Background(), "cert-manager-controller")

	// The values cert-manager's own controller defaults to, but the namespace the chart passes.
	factory, err := controllerpkg.NewContextFactory(ctx, controllerpkg.ContextOptions{
		Kubeconfig:         *kubeconfig,
		KubernetesAPIQPS:   20,
		KubernetesAPIBurst: 50,
		IssuerOptions:      controllerpkg.IssuerOptions{ClusterResourceNamespace: *clusterResourceNamespace},
		IngressShimOptions: controllerpkg.IngressShimOptions{
			DefaultAutoCertificateAnnotations: []string{"kubernetes.io/tls-acme"},
			GatewayAPIExtraProtocols:          sets.New[string](),
		},
		CertificateOptions: controllerpkg.CertificateOptions{
			CertificateRequestMinimumBackoffDuration: time.Hour,
			CertificateRequestMaximumBackoffDuration: 32 * time.Hour,
		},
	})
	if err != nil {
		fail(err)
	}

	names := make([]string, 0, len(controllerpkg.Known()))
	for name := range controllerpkg.Known() {
		names = append(names, name)
	}
	sort.Strings(names)
	var running sync.WaitGroup
	for _, name := range names {
		controller, err := controllerpkg.Known()[name](factory)
		if err != nil {
			fail(fmt.Errorf("%s: %w", name, err))
		}
		running.Add(1)
		go func(name string, controller controllerpkg.Interface) {
			defer running.Done()
			klog.InfoS("starting controller", "controller", name)
			if err := controller.Run(*workers, ctx); err != nil {
				fail(fmt.Errorf("%s: %w", name, err))
			}
		}(name, controller)
	}

	// The controllers asked the shared informers for what they watch; the informers start once all have.
	shared, err := factory.Build()
	if err != nil {
		fail(err)
	}
	shared.SharedInformerFactory.Start(ctx.Done())
	shared.KubeSharedInformerFactory.Start(ctx.Done())
	shared.HTTP01ResourceMetadataInformersFactory.Start(ctx.Done())
	running.Wait()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "cert-manager-controller:", err)
	os.Exit(1)
}
