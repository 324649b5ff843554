using Dapr.Client;
using FanVote.Testing;

namespace FanVote.Sidecar.ConformanceTests.State;

/// <summary>One sidecar (no app) with every state store type, so each test runs as a theory over the stores.</summary>
public sealed class StateFixture : IAsyncLifetime
{
    public const string Redis = "st-redis";
    public const string Memory = "st-memory";
    public const string PgV1 = "st-pg1";
    public const string PgV2 = "st-pg2";

    private readonly ResourceFolder _resources = new();

    public string AppId { get; } = "state-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>Unique per fixture, so parallel runs on the shared PostgreSQL never meet.</summary>
    public string Suffix { get; } = Guid.NewGuid().ToString("N")[..8];

    public string V1Table => $"state_v1_{Suffix}";

    public string V2Table => $"fv{Suffix}_state";

    public SidecarHost Sidecar { get; private set; } = null!;

    public DaprClient Client { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        _resources
            .WithRedisState(Redis)
            .With("memory.yaml", $"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {{ name: {Memory} }}\nspec: {{ type: state.in-memory, version: v1 }}\n")
            .With("pg1.yaml", $"""
                apiVersion: dapr.io/v1alpha1
                kind: Component
                metadata: {"{"} name: {PgV1} {"}"}
                spec:
                  type: state.postgresql
                  version: v1
                  metadata:
                  - {"{"} name: connectionString, value: "{TestEnvironment.Postgres}" {"}"}
                  - {"{"} name: tableName, value: "{V1Table}" {"}"}
                  - {"{"} name: metadataTableName, value: "dapr_metadata_{Suffix}" {"}"}
                """)
            .With("pg2.yaml", $"""
                apiVersion: dapr.io/v1alpha1
                kind: Component
                metadata: {"{"} name: {PgV2} {"}"}
                spec:
                  type: state.postgresql
                  version: v2
                  metadata:
                  - {"{"} name: connectionString, value: "{TestEnvironment.Postgres}" {"}"}
                  - {"{"} name: tablePrefix, value: "fv{Suffix}_" {"}"}
                  - {"{"} name: metadataTableName, value: "dapr_metadata_{Suffix}" {"}"}
                """);
        Sidecar = await new SidecarHost(AppId, _resources.Path).StartAsync();
        Client = new DaprClientBuilder().UseGrpcEndpoint(Sidecar.GrpcEndpoint).UseHttpEndpoint(Sidecar.HttpEndpoint).Build();
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        if (Sidecar is not null)
        {
            await Sidecar.DisposeAsync();
        }

        _resources.Dispose();
    }
}
