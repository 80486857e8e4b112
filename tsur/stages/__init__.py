"""Pipeline stages: collect -> analyse -> route (-> sla, deliver). Each reads its input from the
database, writes its output in transactions, and can be re-run alone."""
