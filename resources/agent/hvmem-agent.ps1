# placeholder: the agent is written next
