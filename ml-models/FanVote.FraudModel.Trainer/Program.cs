using FanVote.FraudModel.Trainer;

return Cli.Run(args, Console.Out, Console.Error);
