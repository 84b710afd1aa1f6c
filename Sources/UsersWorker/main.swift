import BlytzData
import Users

ServiceMain.main(functions: Users.functions, migrations: Users.migrations, setup: Users.setup, commands: Users.commands)
