"""Instruction by the authority's agents: certified data and attestations for a deposit,
fetched through the gateway on an agent's authenticated request and traced to that agent."""
