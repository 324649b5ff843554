using FanVote.Launcher;

// plan FILE                     print what `up` would start
// secrets --state DIR FILE       create the missing secrets of FILE's apps in DIR/secrets.env (0600); print nothing secret
// up FILE --state DIR --sidecar DLL [--resources DIR [--config FILE]] [--env-file F ...] [--env K=V ...] [--timeout SECONDS]
// restart APP FILE --state DIR [--resources DIR [--config FILE]] [--env-file F ...] [--env K=V ...]   a fresh process of APP (its sidecar stays)
// down --state DIR
try
{
    switch (args)
    {
        case ["plan", var runFile, ..]:
            foreach (var app in RunFile.Load(runFile))
            {
                Console.WriteLine($"{app.AppId}\t{app.AppDirPath}\t{string.Join(' ', app.Command)}\t{string.Join(' ', app.DaprdArgs(app.DaprHttpPort ?? 0, app.DaprGrpcPort ?? 0))}");
            }

            return 0;
        case ["secrets", .. var rest] when rest.Length >= 3:
        {
            var values = Secrets.Ensure(Options(rest)["state"], RunFile.Load(rest[^1]).Select(a => a.AppId));
            Console.WriteLine($"{values.Count} secrets in {Path.Combine(Options(rest)["state"], Secrets.FileName)}");
            return 0;
        }

        case ["up", var runFile, .. var rest]:
        {
            var opts = Options(rest);
            var supervisor = new Supervisor(opts["state"], opts["sidecar"], Console.Out);
            await supervisor.UpAsync(Apps(runFile, opts), Env(rest), Timeout(opts));
            return 0;
        }

        case ["restart", var appId, var runFile, .. var rest]:
        {
            var opts = Options(rest);
            await new Supervisor(opts["state"], "", Console.Out).RestartAppAsync(Apps(runFile, opts), appId, Env(rest), Timeout(opts));
            return 0;
        }

        case ["down", .. var rest]:
        {
            var stopped = await new Supervisor(Options(rest)["state"], "", Console.Out).DownAsync();
            Console.WriteLine($"stopped {stopped} process(es)");
            return 0;
        }

        default:
            await Console.Error.WriteLineAsync("usage: FanVote.Launcher plan FILE | secrets --state DIR FILE | up FILE --state DIR --sidecar DLL [--resources DIR [--config FILE]] [--env-file F ...] [--env K=V ...] | restart APP FILE --state DIR [same options as up] | down --state DIR");
            return 2;
    }
}
catch (RunFileException e)
{
    await Console.Error.WriteLineAsync($"fanvote: {e.Message}");
    return 1;
}

static IReadOnlyList<RunFileApp> Apps(string runFile, Dictionary<string, string> opts)
{
    var apps = RunFile.Load(runFile);
    return opts.TryGetValue("resources", out var resources) ? RunFile.WithRegion(apps, resources, opts.GetValueOrDefault("config")) : apps;
}

// Settings from files first (secrets never travel on a command line, where any local user could read them), then --env K=V.
static Dictionary<string, string> Env(string[] rest)
{
    var env = new Dictionary<string, string>(StringComparer.Ordinal);
    for (var i = 0; i < rest.Length - 1; i++)
    {
        if (rest[i] == "--env-file")
        {
            foreach (var (k, v) in Secrets.Read(rest[i + 1]))
            {
                env[k] = v;
            }
        }
    }

    foreach (var kv in rest.SkipWhile(a => a != "--env").Skip(1).TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).Select(kv => kv.Split('=', 2)))
    {
        env[kv[0]] = kv.Length > 1 ? kv[1] : "";
    }

    return env;
}

static TimeSpan Timeout(Dictionary<string, string> opts) =>
    TimeSpan.FromSeconds(opts.TryGetValue("timeout", out var t) ? int.Parse(t, System.Globalization.CultureInfo.InvariantCulture) : 180);

static Dictionary<string, string> Options(string[] rest)
{
    var d = new Dictionary<string, string>(StringComparer.Ordinal);
    for (var i = 0; i < rest.Length - 1; i++)
    {
        if (rest[i].StartsWith("--", StringComparison.Ordinal) && rest[i] != "--env" && rest[i] != "--env-file")
        {
            d[rest[i][2..]] = rest[i + 1];
        }
    }

    return d;
}
