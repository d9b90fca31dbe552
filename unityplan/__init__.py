"""UnityPlan Graph: operator tooling (settings, CLI, embedded services) shared by every layer."""
